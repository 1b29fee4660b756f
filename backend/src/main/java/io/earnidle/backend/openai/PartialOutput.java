package io.earnidle.backend.openai;

import java.util.Optional;

/**
 * Where a streamed answer finds a job's output before its final result: the text a node reports while it decodes.
 * Until the nodes report progress ({@code POST /api/inference/progress}, issue 20's node-relayed streaming) the API
 * runs with {@link #NONE} and streams the job's result when it is accepted; a store of reported partial output
 * plugs in here without any change to the streaming code (docs/api.md, "Streaming").
 */
@FunctionalInterface
public interface PartialOutput {
    /** No partial output: streams carry the accepted result only. */
    PartialOutput NONE = jobId -> Optional.empty();

    /** The decoded text reported so far for {@code jobId} by the node that holds it now, if any. */
    Optional<String> textSoFar(String jobId);
}
