export { md5File, materialize, objectPath, pushDirectory, type MaterializeResult } from './dvc-store';
export { readDvcFile, writeDvcFile, type DvcOut } from './dvc-file';
export { DvcChecksumError, DvcStoreError } from './errors';
export { manifestBytes, type ManifestEntry } from './manifest';
