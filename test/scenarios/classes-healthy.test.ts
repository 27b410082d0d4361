/** Detection quality, healthy traffic with its daily wave, growth and drift: every alarm is false (class-suite.ts). */
import { classSuite } from './class-suite.js';

classSuite('healthy', ['steady', 'growth', 'drift']);
