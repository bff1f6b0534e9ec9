// Times as the Kubernetes API writes them: metav1.Time is RFC 3339 in whole seconds
// (`2026-11-22T21:35:14Z`); metav1.MicroTime keeps six fractional digits
// (`2026-11-22T21:35:14.123000Z`, for Lease renewals and events.k8s.io).

/** metav1.Time of `at` (epoch milliseconds or a Date; default: now). */
export function kubeTime(at: number | Date = Date.now()): string {
  return new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** metav1.MicroTime of `at` (epoch milliseconds or a Date; default: now). */
export function kubeMicroTime(at: number | Date = Date.now()): string {
  return new Date(at).toISOString().replace(/Z$/, '000Z');
}
