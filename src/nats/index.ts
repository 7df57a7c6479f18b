export * from './connection';
export * from './durable-consumer';
export * from './event-stream';
export * from './names';
