import { describeRequestFuzz } from '../helpers/request-fuzz';

describeRequestFuzz({ valid: 10, live: 2, invalid: 24 });
