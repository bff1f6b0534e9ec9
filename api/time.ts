// Times as the Kubernetes API writes them: metav1.Time is RFC 3339 in whole seconds
// (`2026-11-22T21:35:14Z`); metav1.MicroTime keeps six fractional digits
// (`2026-11-22T21:35:14.123000Z`, for Lease renewals and events.k8s.io).

// The last second formatted: most calls ask for "now", many times a second (every object a
// request creates, every condition a controller writes).
let lastSecond = Number.NaN;
let lastSecondText = '';

/** metav1.Time of `at` (epoch milliseconds or a Date; default: now). */
export function kubeTime(at: number | Date = Date.now()): string {
  const second = Math.floor((typeof at === 'number' ? at : at.getTime()) / 1000);
  if (second !== lastSecond) {
    lastSecondText = new Date(second * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    lastSecond = second;
  }
  return lastSecondText;
}

/** metav1.MicroTime of `at` (epoch milliseconds or a Date; default: now). */
export function kubeMicroTime(at: number | Date = Date.now()): string {
  return new Date(at).toISOString().replace(/Z$/, '000Z');
}
