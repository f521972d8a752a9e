export { objectKeys } from './keys';
