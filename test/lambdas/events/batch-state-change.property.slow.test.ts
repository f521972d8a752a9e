import { describeComputeEventProperty } from '../../helpers/compute-event-property';

describeComputeEventProperty(400);
