export { generateVmName, type RandomIndex } from './nameGenerator.js';
