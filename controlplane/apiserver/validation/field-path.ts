// Field paths written the way apimachinery's field.Path prints them: `spec.containers[0].ports[1]`,
// `spec.resources.limits[cpu]`. Immutable, so a path can be shared by the checks below it.
//
// Validation walks every field of every object written but prints a path only for a field that
// is wrong: a path is therefore its parent plus one step, and its text is built on demand.

export class FieldPath {
  private text: string | undefined;

  private constructor(
    private readonly parent: FieldPath | undefined,
    /** `name` or `a.b` (joined to the parent with a dot), or `[i]`/`[key]` (appended). */
    private readonly step: string,
  ) {}

  static of(...names: string[]): FieldPath {
    return new FieldPath(undefined, names.join('.'));
  }

  child(name: string, ...more: string[]): FieldPath {
    return new FieldPath(this, more.length === 0 ? name : `${name}.${more.join('.')}`);
  }

  index(i: number): FieldPath {
    return new FieldPath(this, `[${i}]`);
  }

  /** A map key, printed without quotes as Kubernetes does: `metadata.annotations[example.com/x]`. */
  key(k: string): FieldPath {
    return new FieldPath(this, `[${k}]`);
  }

  toString(): string {
    if (this.text === undefined) {
      const head = this.parent?.toString() ?? '';
      this.text = !head ? this.step : this.step.startsWith('[') ? `${head}${this.step}` : `${head}.${this.step}`;
    }
    return this.text;
  }
}
