package dev.hardway.credentials;

/**
 * An immutable snapshot of a {@link MetadataServer}'s counters since it started.
 *
 * @param requests requests answered
 * @param credentialsServed credential documents served (metadata and container paths)
 * @param tokensIssued IMDSv2 tokens issued
 * @param tokensEvicted IMDSv2 tokens dropped because the store was full
 * @param unauthorized requests refused with 401 (missing, forged or expired token)
 * @param forbidden requests refused with 403 (peer, Host, browser signals, forwarded token requests)
 * @param notFound requests for paths or roles that are not served
 * @param badRequests requests refused as malformed, too large or too slow (400, 405, 408, 413, and a head over
 *     16 KiB)
 * @param unavailable requests answered 5xx because no valid credentials could be had
 * @param refusedConnections connections closed before a request: peer not allowed or too many connections
 */
public record MetadataStats(long requests, long credentialsServed, long tokensIssued, long tokensEvicted,
    long unauthorized, long forbidden, long notFound, long badRequests, long unavailable, long refusedConnections) {}
