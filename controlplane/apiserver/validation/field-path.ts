// Field paths written the way apimachinery's field.Path prints them: `spec.containers[0].ports[1]`,
// `spec.resources.limits[cpu]`. Immutable, so a path can be shared by the checks below it.

export class FieldPath {
  private constructor(private readonly text: string) {}

  static of(...names: string[]): FieldPath {
    return new FieldPath(names.join('.'));
  }

  child(...names: string[]): FieldPath {
    const tail = names.join('.');
    return new FieldPath(this.text ? `${this.text}.${tail}` : tail);
  }

  index(i: number): FieldPath {
    return new FieldPath(`${this.text}[${i}]`);
  }

  /** A map key, printed without quotes as Kubernetes does: `metadata.annotations[example.com/x]`. */
  key(k: string): FieldPath {
    return new FieldPath(`${this.text}[${k}]`);
  }

  toString(): string {
    return this.text;
  }
}
