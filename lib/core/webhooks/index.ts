export { isPublicAddress, nonPublicHostProblem } from './destinations';
export {
  generateWebhookSecret,
  signedWebhookHeaders,
  signWebhook,
  verifyWebhook,
  WEBHOOK_SECRET_PREFIX,
  type WebhookSignatureHeaders,
  WebhookVerificationError,
} from './signing';
