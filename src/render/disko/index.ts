/** Disko layouts: catalogue, renderer and what a layout implies for the host config. */
export { DISKO_LAYOUTS, LAYOUTS_DIR, checkLayoutFits, findLayout, isLayoutName, loadLayouts, parseLayoutInfo } from './catalogue.js';
export { buildDiskoConfig, buildDiskoDevices, type DiskoDevices } from './build.js';
export { buildBootLoader, planSwapBytes, requiredInitrdModulesForLayout, type BootLoaderChoice, type BootLoaderPlan, type NixBinding } from './boot-loader.js';
export { LUKS_PASSWORD_FILE, BTRFS_MOUNT_OPTIONS, parseSubvolumes } from './parts.js';
export * from './types.js';
