/**
 * Credentials without long-lived keys: {@code HardwayCredentialsProvider}, a drop-in AWS SDK v2
 * provider whose {@code resolveCredentials()} is a plain volatile read, and {@code MetadataServer},
 * an imitation of the EC2 instance metadata service that hands out short-lived STS role credentials brokered by a
 * {@code RoleBroker} under a {@code RolePolicy}.
 */
@NullMarked
package dev.hardway.credentials;

import org.jspecify.annotations.NullMarked;
