// A pod's phase as everyone reads it: the agent that writes it, the controllers, the scheduler,
// quota and the API's deletion strategy.

/** Succeeded or Failed: nothing of the pod runs again (PodPhase's terminal values). */
export function isTerminalPhase(phase: string | undefined): boolean {
  return phase === 'Succeeded' || phase === 'Failed';
}
