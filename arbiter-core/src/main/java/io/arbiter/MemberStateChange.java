package io.arbiter;

import java.util.Optional;

/**
 * A master's own membership changed state, with the reason ({@link ClusterListener#stateChanged}).
 * The states and what each means for services are in {@link MemberState}: STARTING is joining;
 * FENCED means the services were told to stop and the master is rejoining as a new incarnation,
 * which a change FENCED to ACTIVE reports.
 *
 * @param memberName the master's configured name
 * @param incarnation the incarnation concerned: the one that joined, turned suspect, was fenced or
 *     stopped; empty when the master never joined
 * @param from the state before
 * @param to the state now
 * @param reason why, in words for a log or a dashboard ("joined", "lease renewal failed: ...", "no
 *     successful renewal for 2600 ms, ...")
 */
public record MemberStateChange(
    String memberName,
    Optional<MemberId> incarnation,
    MemberState from,
    MemberState to,
    String reason) {}
