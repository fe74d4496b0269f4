/**
 * JUnit 5 support: dev.hardway.testkit.junit.LocalAwsExtension starts the requested servers once per test JVM
 * and shares them across test classes, with fresh resource names per test.
 */
@NullMarked
package dev.hardway.testkit.junit;

import org.jspecify.annotations.NullMarked;
