// Kept for commands that still import it; new code imports sizes and durations from '@hypr/api/units'
// and names from './names.js'.
export { goTime, humanDuration, humanSize } from '@hypr/api/units';
export { familiarName, shortId, splitRepoTag } from './names.js';
