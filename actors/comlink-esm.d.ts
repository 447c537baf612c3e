// comlink ships an ESM build without an "exports" map; its types are those of the package entry.
declare module 'comlink/dist/esm/comlink.mjs' {
  export * from 'comlink';
}
