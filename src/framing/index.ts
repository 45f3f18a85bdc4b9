export {
  LineSplitter,
  LineTooLongError,
  LineEndedError,
  onLines,
  readLine,
  type LineReadError,
} from './lineFraming.js';
