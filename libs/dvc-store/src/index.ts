export {
  md5File,
  materialize,
  objectPath,
  pushDirectory,
  readDvcFile,
  writeDvcFile,
  type DvcOut,
  type MaterializeResult,
} from './dvc-store';
export { DvcChecksumError, DvcStoreError } from './errors';
export { manifestBytes, type ManifestEntry } from './manifest';
