export { breakGlass, tripKillSwitch, validateBreakGlass, DEFAULT_KILL_VALUE, type BreakGlassRequest, type BreakGlassResult } from './break-glass.ts';
