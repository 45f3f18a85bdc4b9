export {
  loadConfig,
  parseConfigText,
  defaultConfig,
  type Config,
  type FileSyncEntry,
  type LoadConfigOptions,
} from './config.js';
export { documentedKeys, LOG_LEVELS, BRIDGE_NAME_PATTERN, type LogLevel } from './schema.js';
