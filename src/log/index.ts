export { JsonLogger, silentLogger, type Logger, type Level } from './logger.js';
