/** Detection quality, healthy traffic whose volume drops or surges: every alarm is false (class-suite.ts). */
import { classSuite } from './class-suite.js';

classSuite('surges', ['drop', 'flash-sale']);
