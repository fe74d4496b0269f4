/** Implementation: the loopback HTTP/1.1 server and the token store. Not exported. */
@NullMarked
package dev.hardway.credentials.internal;

import org.jspecify.annotations.NullMarked;
