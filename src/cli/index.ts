export { runCli, buildProgram } from './main.js';
export { renderVmList, renderVmShow } from './commands/vm/render.js';
export { renderChecks } from './commands/doctor.js';
export { renderTable, formatAge, type Output } from './output.js';
export { reportError } from './errors.js';
export { escapeForTerminal, escapeForTerminalLine, jsonForTerminal, needsTerminalEscape } from './terminalText.js';
