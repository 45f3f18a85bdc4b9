export { createRootOverlay, createWorkDisk, growWorkDisk, writeWorkDiskFiles, type WorkDiskFile } from './vmDisks.js';
