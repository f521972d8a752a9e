import { describeRequestFuzz } from '../helpers/request-fuzz';

describeRequestFuzz({ valid: 60, invalid: 200 });
