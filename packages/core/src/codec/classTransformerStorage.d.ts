// class-transformer ships the types of its storage module in types/, not next to cjs/storage.js.
declare module 'class-transformer/cjs/storage.js' {
  export { defaultMetadataStorage } from 'class-transformer/types/storage';
}
