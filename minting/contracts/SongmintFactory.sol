// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";
import {SongmintEditions} from "./SongmintEditions.sol";
import {SongmintSplit} from "./SongmintSplit.sol";

/// @title SongmintFactory: each release an EIP-1167 clone of SongmintEditions at a CREATE2 address.
/// @notice The factory deploys one implementation of each contract in its constructor and then
/// makes clones of them. A release's address depends only on the factory, the creating account
/// and a salt, so it is known before the transaction is sent (`predictRelease`): a client that
/// crashed mid-deploy confirms the deploy by the code at that address. The salt is bound to the
/// sender, so no one else can take an address another account means to use. A split's address
/// depends only on its payees and shares: the same split is created once and reused.
contract SongmintFactory {
    address public immutable editionsImplementation;
    address public immutable splitImplementation;

    event ReleaseCreated(address indexed release, address indexed creator, bytes32 salt);
    event SplitCreated(address indexed split);

    constructor() {
        editionsImplementation = address(new SongmintEditions());
        splitImplementation = address(new SongmintSplit());
    }

    /// @notice Clone and initialise a release at `predictRelease(msg.sender, salt)`.
    function createRelease(bytes32 salt, SongmintEditions.Config calldata config) external returns (address release) {
        release = Clones.cloneDeterministic(editionsImplementation, _releaseSalt(msg.sender, salt));
        SongmintEditions(release).initialize(config);
        emit ReleaseCreated(release, msg.sender, salt);
    }

    function predictRelease(address creator, bytes32 salt) external view returns (address) {
        return Clones.predictDeterministicAddress(editionsImplementation, _releaseSalt(creator, salt));
    }

    /// @notice Clone and initialise a split (payees, shares in basis points summing to 10 000).
    function createSplit(address[] calldata payees, uint16[] calldata bps) external returns (address split) {
        split = Clones.cloneDeterministic(splitImplementation, _splitSalt(payees, bps));
        SongmintSplit(payable(split)).initialize(payees, bps);
        emit SplitCreated(split);
    }

    function predictSplit(address[] calldata payees, uint16[] calldata bps) external view returns (address) {
        return Clones.predictDeterministicAddress(splitImplementation, _splitSalt(payees, bps));
    }

    function _releaseSalt(address creator, bytes32 salt) private pure returns (bytes32) {
        return keccak256(abi.encode(creator, salt));
    }

    function _splitSalt(address[] calldata payees, uint16[] calldata bps) private pure returns (bytes32) {
        return keccak256(abi.encode(payees, bps));
    }
}
