export * from './protocol.js';
export * from './client.js';
export * from './readiness.js';
export * from './hub.js';
