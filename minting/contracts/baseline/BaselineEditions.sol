// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {ERC1155} from "@openzeppelin/contracts/token/ERC1155/ERC1155.sol";
import {ERC1155Supply} from "@openzeppelin/contracts/token/ERC1155/extensions/ERC1155Supply.sol";
import {ERC1155URIStorage} from "@openzeppelin/contracts/token/ERC1155/extensions/ERC1155URIStorage.sol";
import {ERC2981} from "@openzeppelin/contracts/token/common/ERC2981.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

/// @title BaselineEditions: the straightforward OpenZeppelin way, kept only as the gas baseline.
/// @notice ERC1155URIStorage stores the full URI string of every token; `benchmarks/gas.py`
/// measures it next to SongmintEditions in the same run. Not meant for deployment.
contract BaselineEditions is ERC1155Supply, ERC1155URIStorage, ERC2981, AccessControl {
    bytes32 public constant MINTER_ROLE = keccak256("MINTER_ROLE");

    mapping(uint256 id => uint256 cap) public capOf;

    error TokenAlreadyExists(uint256 id);
    error TokenDoesNotExist(uint256 id);
    error EditionCapExceeded(uint256 id, uint256 cap, uint256 supplyAfter);

    constructor(address admin, address royaltyReceiver, uint96 royaltyBps) ERC1155("") {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(MINTER_ROLE, admin);
        _setDefaultRoyalty(royaltyReceiver, royaltyBps);
    }

    function create(address to, uint256 id, uint256 amount, uint256 cap, string calldata tokenURI)
        external
        onlyRole(MINTER_ROLE)
    {
        _createOne(id, cap, tokenURI);
        _mint(to, id, amount, "");
    }

    function createBatch(
        address to,
        uint256[] calldata ids,
        uint256[] calldata amounts,
        uint256[] calldata caps,
        string[] calldata uris
    ) external onlyRole(MINTER_ROLE) {
        for (uint256 i; i < ids.length; ++i) {
            _createOne(ids[i], caps[i], uris[i]);
        }
        _mintBatch(to, ids, amounts, "");
    }

    function mint(address to, uint256 id, uint256 amount) external onlyRole(MINTER_ROLE) {
        if (capOf[id] == 0) revert TokenDoesNotExist(id);
        _mint(to, id, amount, "");
    }

    function mintBatch(address to, uint256[] calldata ids, uint256[] calldata amounts)
        external
        onlyRole(MINTER_ROLE)
    {
        for (uint256 i; i < ids.length; ++i) {
            if (capOf[ids[i]] == 0) revert TokenDoesNotExist(ids[i]);
        }
        _mintBatch(to, ids, amounts, "");
    }

    function uri(uint256 id) public view override(ERC1155, ERC1155URIStorage) returns (string memory) {
        return super.uri(id);
    }

    function supportsInterface(bytes4 interfaceId)
        public
        view
        override(ERC1155, ERC2981, AccessControl)
        returns (bool)
    {
        return super.supportsInterface(interfaceId);
    }

    function _update(address from, address to, uint256[] memory ids, uint256[] memory values)
        internal
        override(ERC1155, ERC1155Supply)
    {
        super._update(from, to, ids, values);
        if (from == address(0)) {
            for (uint256 i; i < ids.length; ++i) {
                if (totalSupply(ids[i]) > capOf[ids[i]]) {
                    revert EditionCapExceeded(ids[i], capOf[ids[i]], totalSupply(ids[i]));
                }
            }
        }
    }

    function _createOne(uint256 id, uint256 cap, string calldata tokenURI) private {
        if (capOf[id] != 0) revert TokenAlreadyExists(id);
        capOf[id] = cap;
        _setURI(id, tokenURI);
    }
}
