export { buildPackage, signPackage } from './package-build.js';
