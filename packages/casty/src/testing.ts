export * from '@casty/core/testing';
