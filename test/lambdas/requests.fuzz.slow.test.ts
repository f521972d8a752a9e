import { describeRequestFuzz } from '../helpers/request-fuzz';

describeRequestFuzz({ valid: 60, live: 8, invalid: 200 });
