// Preloaded into the Kinesis stand-in (node --require): kinesis-mock has no bind-address option and listens on
// every interface, so this makes any listen() call without an explicit host use HARDWAY_BIND_HOST (the test kit
// sets it to its loopback address). http, https and tls servers all inherit listen() from net.Server.
'use strict';
const net = require('net');
const host = process.env.HARDWAY_BIND_HOST || '127.0.0.1';
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  const first = args[0];
  if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    if (typeof args[1] !== 'string') {
      args.splice(1, 0, host);
    }
  } else if (first !== null && typeof first === 'object' && first.port !== undefined && !first.host && !first.path) {
    args[0] = Object.assign({}, first, { host });
  }
  return listen.apply(this, args);
};
