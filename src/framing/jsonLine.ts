/** The JSON object one protocol line holds, or null when the line is not JSON or not an object (an array, a number, null). */
export function parseJsonObject(line: string): Record<string, unknown> | null {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return null;
  }
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}
