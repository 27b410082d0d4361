/** Detection quality, healthy traffic: every alarm is false (class-suite.ts). */
import { classSuite } from './class-suite.js';

classSuite('healthy', ['steady', 'growth', 'drop', 'flash-sale', 'drift']);
