/** A problem in a detection, with the key path (`detection.selection.Image|re`) to find its line. */
export class DetectionError extends Error {
  constructor(message: string, readonly path: string, readonly column?: number) {
    super(message);
  }
}
