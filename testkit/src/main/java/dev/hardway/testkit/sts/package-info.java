/**
 * A local STS server speaking the real wire protocol (SigV4-signed awsQuery), with signature verification,
 * a trust policy and credentials that really expire: dev.hardway.testkit.sts.StsServer.
 */
@NullMarked
package dev.hardway.testkit.sts;

import org.jspecify.annotations.NullMarked;
