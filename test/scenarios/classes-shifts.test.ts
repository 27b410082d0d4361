/** Detection quality, failures shifted everywhere, in one geo or on one route (class-suite.ts). */
import { classSuite } from './class-suite.js';

classSuite('shifts', ['decline-shift', 'geo-outage', 'route-outage']);
