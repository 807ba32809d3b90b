// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {SongmintEditions} from "../SongmintEditions.sol";
import {SongmintFactory} from "../SongmintFactory.sol";

/// Releases for the tests, made the way songmint makes them: a clone from the factory.
library Fixtures {
    function release(
        SongmintFactory f,
        bytes32 salt,
        string memory baseURI,
        string memory contractURI,
        address admin,
        address royaltyReceiver,
        uint96 bps
    ) internal returns (SongmintEditions) {
        SongmintEditions.Config memory c = SongmintEditions.Config({
            name: "Songs",
            symbol: "SONG",
            baseURI: baseURI,
            contractURI: contractURI,
            admin: admin,
            royaltyReceiver: royaltyReceiver,
            royaltyBps: bps,
            fundsRecipient: address(0)
        });
        return SongmintEditions(f.createRelease(salt, c));
    }
}
