import { describeRequestFuzz } from '../helpers/request-fuzz';

describeRequestFuzz({ valid: 15, invalid: 40 });
