export { type BackendFactory, type BatchOp, NAMESPACES, type Namespace, Store, type Sublevel } from './store.js';
