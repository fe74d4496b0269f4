/**
 * The test kit's front door: dev.hardway.testkit.LocalAws starts any subset of the local servers
 * (dev.hardway.testkit.Service) on loopback and hands out endpoints, credentials and SDK clients.
 */
@NullMarked
package dev.hardway.testkit;

import org.jspecify.annotations.NullMarked;
