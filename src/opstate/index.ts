export { OperationRegistry, Operation, newOpId, type OperationInfo } from './operationRegistry.js';
