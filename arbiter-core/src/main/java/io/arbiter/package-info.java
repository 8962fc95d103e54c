/**
 * The Arbiter API: a {@link io.arbiter.Cluster} of masters over one shared database, its {@link
 * io.arbiter.ClusterConfig}, the {@link io.arbiter.ClusteredService}s it runs under {@link
 * io.arbiter.FencingToken}s, the {@link io.arbiter.ClusterListener}, {@link
 * io.arbiter.ClusterAdmin} for operators, and the exceptions under {@link
 * io.arbiter.ArbiterException}.
 *
 * <p>Start with the README; the design is in docs/design.md, the module and package map in
 * docs/architecture.md. Nothing in {@code io.arbiter.internal} is API.
 */
package io.arbiter;
