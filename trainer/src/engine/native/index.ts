export { loadNativeAddon, NATIVE_ADDON_PATH, type NativeAddon } from './addon';
export { NativeBackend } from './backend';
