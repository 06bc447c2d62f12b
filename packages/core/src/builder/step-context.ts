import type { DockerfileStep } from '../dockerfile/index.js';
import type { StageState } from './stage-state.js';

/** One step of a stage on its way through the build: where it is, what it is called, its key. */
export interface StepContext {
  st: StageState;
  step: DockerfileStep;
  /** The step's index in its stage. */
  i: number;
  /** Its vertex number in progress events. */
  id: number;
  /** `[stage-0 2/5] RUN make` */
  name: string;
  key: string;
  /** When it started (Date.now()). */
  t0: number;
  /** RUN's argv. */
  argv?: string[];
  /** Its history line. */
  createdBy: string;
}
