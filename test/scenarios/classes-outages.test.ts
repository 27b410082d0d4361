/** Detection quality, timeouts of a share of payments, and a processor failing from its first event (class-suite.ts). */
import { classSuite } from './class-suite.js';

classSuite('outages', ['partial-outage', 'full-outage', 'bad-from-start']);
