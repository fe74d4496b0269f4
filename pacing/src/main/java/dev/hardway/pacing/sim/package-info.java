/**
 * A deterministic simulator of pacing: regions of boxes running the real {@link dev.hardway.pacing.Pacer} and a
 * {@link dev.hardway.pacing.Coordinator} on a virtual clock, with daily traffic curves, connection skew and faults;
 * {@link dev.hardway.pacing.sim.Simulator#main(String[])} prints the figures.
 */
@NullMarked
package dev.hardway.pacing.sim;

import org.jspecify.annotations.NullMarked;
