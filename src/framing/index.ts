export {
  LineSplitter,
  LineTooLongError,
  LineEndedError,
  onLines,
  readLine,
  type LineReadError,
} from './lineFraming.js';
export { parseJsonObject } from './jsonLine.js';
