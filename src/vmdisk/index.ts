export { createRootOverlay, createWorkDisk, writeWorkDiskFiles, type WorkDiskFile } from './vmDisks.js';
